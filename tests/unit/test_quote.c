/*
 * test_quote.c - placeholder, replaced below.
 */
int main(void) { return 0; }
