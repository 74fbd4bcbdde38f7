"""The reference domain of this repository's own handlers: profiles, activity counters,
audit records, instance states and welcome messages.

It is not the library's API: the handlers in :mod:`lambda_dedup.handlers` are the
toolkit's first users, and a team's own handlers import only the toolkit
(:mod:`lambda_dedup`, :mod:`lambda_dedup.batch`, :mod:`lambda_dedup.asynchronous`,
:mod:`lambda_dedup.http`). This package holds what those reference handlers share:

* :mod:`~lambda_dedup.reference.domain`: profile and activity validation;
* :mod:`~lambda_dedup.reference.senders`: where the SNS handler's welcome messages go;
* :mod:`~lambda_dedup.reference.tables`: the environment variables naming their tables.
"""
