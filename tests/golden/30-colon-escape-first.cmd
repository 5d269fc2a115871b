$REDIRC test tests/golden/files/colon-escape-first.redir
