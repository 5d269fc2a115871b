$REDIRC test tests/golden/files/expect-empty-query.redir
