$REDIRC check tests/golden/files/errors.redir --today 2026-11-26 --diagnostics-format=sarif
