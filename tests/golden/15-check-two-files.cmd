$REDIRC check examples/site.redir tests/check/loop-exact.redir --today 2026-11-26
