$REDIRC check tests/golden/files/unbound-dotdot.redir
