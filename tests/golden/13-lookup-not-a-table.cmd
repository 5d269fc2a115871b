$REDIRC lookup tests/golden/files/does-not-exist.redirdb /a; $REDIRC lookup examples/site.redir /a
