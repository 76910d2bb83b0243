"""Spec facts the fakes check requests against, generated from the vendor specs by generate.py."""
