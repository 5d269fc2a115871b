$REDIRC explain examples/site.redir /x --host OLD.example.com:8080 /pricing
