"""Web plumbing shared by the blueprints: rendering, links, request input, security headers, the page cache."""
