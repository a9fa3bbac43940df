"""The optional self-description questions. The ethnicity list goes beyond the census
boxes, and free text is always allowed next to it."""

from __future__ import annotations

ETHNICITY_OPTIONS = (
    "African", "Arab", "Bangladeshi", "Black British", "Caribbean", "Chinese", "Eritrean",
    "Ethiopian", "Filipino", "Ghanaian", "Gypsy or Irish Traveller", "Indian", "Iranian",
    "Irish", "Jewish", "Kashmiri", "Kurdish", "Latin American", "Mixed or multiple heritage",
    "Nigerian", "Pakistani", "Polish", "Punjabi", "Roma", "Romanian", "Somali",
    "Sri Lankan Tamil", "Turkish", "Vietnamese", "White British", "Yemeni",
    "Any other background",
)

AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
