// fake server: in progress (issue 3).
