"""Matching: state functions over objects, the pattern language, and the online matchers.

`states` turns objects into values; `pattern` is the language over distinct states;
`nfa` compiles it; `matcher` runs it one timeline entry at a time; `counting` counts
changes; `verdict` holds what a check says (status, outcome, progress).
"""
