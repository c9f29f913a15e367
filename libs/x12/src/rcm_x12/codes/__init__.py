"""The X12 code lists the typed readers and the writers share, one module per kind of transaction set: each
code value with what it means, so that a reader can say what a code means and a writer can refuse a code the
guide does not have."""
