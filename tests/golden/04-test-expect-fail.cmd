$REDIRC test tests/golden/files/expect-fail.redir
