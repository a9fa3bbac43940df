"""The optional self-description questions. The ethnicity list goes beyond the census
boxes, and free text is always allowed next to it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# Each option is stored as its English key (ballots keep it, and the results count by it)
# and shown with its label in the reader's language: the list is ours, so its words are
# interface, translated in the catalogs like any other.
ETHNICITY_LABELS = {
    "African": _l("African"),
    "Arab": _l("Arab"),
    "Bangladeshi": _l("Bangladeshi"),
    "Black British": _l("Black British"),
    "Caribbean": _l("Caribbean"),
    "Chinese": _l("Chinese"),
    "Eritrean": _l("Eritrean"),
    "Ethiopian": _l("Ethiopian"),
    "Filipino": _l("Filipino"),
    "Ghanaian": _l("Ghanaian"),
    "Gypsy or Irish Traveller": _l("Gypsy or Irish Traveller"),
    "Indian": _l("Indian"),
    "Iranian": _l("Iranian"),
    "Irish": _l("Irish"),
    "Jewish": _l("Jewish"),
    "Kashmiri": _l("Kashmiri"),
    "Kurdish": _l("Kurdish"),
    "Latin American": _l("Latin American"),
    "Mixed or multiple heritage": _l("Mixed or multiple heritage"),
    "Nigerian": _l("Nigerian"),
    "Pakistani": _l("Pakistani"),
    "Polish": _l("Polish"),
    "Punjabi": _l("Punjabi"),
    "Roma": _l("Roma"),
    "Romanian": _l("Romanian"),
    "Somali": _l("Somali"),
    "Sri Lankan Tamil": _l("Sri Lankan Tamil"),
    "Turkish": _l("Turkish"),
    "Vietnamese": _l("Vietnamese"),
    "White British": _l("White British"),
    "Yemeni": _l("Yemeni"),
    "Any other background": _l("Any other background"),
}
ETHNICITY_OPTIONS = tuple(ETHNICITY_LABELS)


def ethnicity_label(option: str) -> str:
    """An option's label in the reader's language (a key not in the list is shown as
    stored)."""
    label = ETHNICITY_LABELS.get(option)
    return str(label) if label is not None else option


AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
