"""Trusts, VCSE partners and research bodies; the catalogue of datasets and services."""
