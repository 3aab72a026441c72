"""Content controls a chat's admins set: a ban list (words and regular expressions) checked on what
people ask for, and a policy (``safe | spoiler | off``) for what comes back."""
