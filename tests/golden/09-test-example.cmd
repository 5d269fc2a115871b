$REDIRC test examples/site.redir --today 2026-11-26
