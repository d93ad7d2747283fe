"""Connection to the three backends (MongoDB URI, embedded SecantusDB, memory://), the driver shim, indexes,
migrations, pagination and the media store. Knows models; nothing above it."""
