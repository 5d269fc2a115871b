$REDIRC frobnicate
