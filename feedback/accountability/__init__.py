"""Accountability and outreach: loop-closure records, open data, print and share kits."""
