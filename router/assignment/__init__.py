# Placeholder on branch agents only: the lead merges the real module from branch cases.
