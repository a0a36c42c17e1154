print("msab")
