$REDIRC help explain; $REDIRC help nope; $REDIRC -v; $REDIRC test examples/site.redir -q --today 2026-11-26; echo "quiet: $?"
