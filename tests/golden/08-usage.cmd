$REDIRC frobnicate x
