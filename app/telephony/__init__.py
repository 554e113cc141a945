"""Asterisk adapter: ARI (REST + events), call control, externalMedia RTP endpoints."""
