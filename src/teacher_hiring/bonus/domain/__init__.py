"""The rules of money: pure, no I/O."""
