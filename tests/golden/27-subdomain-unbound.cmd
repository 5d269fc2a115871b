$REDIRC check tests/golden/files/subdomain-unbound.redir
