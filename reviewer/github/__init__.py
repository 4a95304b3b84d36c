"""`review github`: review a pull request and post the findings where its reviewers look.

A diff source (the PR's ChangeSet, from local git or the files API) and a reporter (one review
with inline comments, one summary comment, resolved threads; workflow annotations when the
token cannot write). Config and custom rules always come from the PR's base revision.
"""
