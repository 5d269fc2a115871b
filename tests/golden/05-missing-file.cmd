$REDIRC check tests/golden/files/does-not-exist.redir
