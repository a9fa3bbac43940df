"""Research priorities: communities suggest questions, organisations shortlist them,
people vote, and the organisations respond."""
