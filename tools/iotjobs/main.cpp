// Placeholder until lib/cli lands (issue 2, CLI part in progress).
int main() { return 255; }
