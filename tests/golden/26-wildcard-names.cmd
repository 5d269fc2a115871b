$REDIRC check tests/golden/files/wildcard-names.redir
