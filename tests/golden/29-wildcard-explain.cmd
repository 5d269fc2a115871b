$REDIRC explain tests/golden/files/wildcard-explain.redir http://my_site.example.com/a 'http://a.b-c.example.com:8080/a' http://example.com/a 'http://x.y.example.com./a'
