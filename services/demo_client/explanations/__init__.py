"""The teaching text, kept apart from the code that decides: what the flow inspector and the
pages tell the learner at each step (`steps`), why a step was refused (`refusals`) and what
each parameter and claim means (`parameters`)."""
