""""Your data led to this": updates, revisions, following, questions and answers, feeds."""
