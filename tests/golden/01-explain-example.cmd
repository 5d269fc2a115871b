$REDIRC explain examples/site.redir '/old-pricing?ref=ad' /blog/x 'https://old.example.com/a?b=c' /spring-sale /pricing '/blog/a%zz' --today 2026-11-26
