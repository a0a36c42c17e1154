print("msab-bench")
