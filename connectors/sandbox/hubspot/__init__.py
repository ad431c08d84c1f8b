"""A local stand-in for HubSpot's CRM API, its webhooks and a console for the demo."""
