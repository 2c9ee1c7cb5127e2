// Placeholder until lib/fake lands (issue 3 in progress).
int main() { return 255; }
