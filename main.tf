locals {
  package_file = coalesce(var.package_file, "${path.module}/build/lambda.zip")
  tags         = merge({ Project = "lambda-dedup" }, var.tags)
}

# The deduplication records of every function in the stack; keys are namespaced per
# handler, so one table serves them all.
module "idempotency_table" {
  source = "./modules/idempotency-table"

  name = "${var.name_prefix}-idempotency"
  tags = local.tags
}

# Direct invocation (SDK Invoke, Step Functions): an idempotent inbox for commands.
module "inbox_function" {
  source = "./modules/function"

  function_name          = "${var.name_prefix}-inbox"
  description            = "Idempotent receiver for directly invoked commands."
  handler                = "lambda_dedup.handlers.inbox.handler"
  package_file           = local.package_file
  idempotency_table_name = module.idempotency_table.name
  idempotency_table_arn  = module.idempotency_table.arn
  tags                   = local.tags
}
