"""The admin console: server-rendered pages for editors, staff and admins, mounted under /admin."""
