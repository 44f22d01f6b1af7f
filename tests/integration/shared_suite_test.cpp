// placeholder: the shared suite is being written
