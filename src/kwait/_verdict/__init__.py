"""Verdicts: judging loops over a tracker's recorder, failure reports and failure exceptions."""
