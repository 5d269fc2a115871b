$REDIRC check tests/golden/files
