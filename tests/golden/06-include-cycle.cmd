$REDIRC check tests/golden/files/cycle/a.redir
