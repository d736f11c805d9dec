"""Staff accounts and the unanswered inbox, used by the staff console."""
