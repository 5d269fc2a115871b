$REDIRC explain -I tests/golden/files/confine tests/golden/files/confine/site/top.redir http://a.example/x http://b.example/x /o /x
