$REDIRC check tests/golden/files/binary.redir
