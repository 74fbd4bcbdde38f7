variable "region" {
  description = "AWS region to deploy to (default eu-west-1)."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Name of the function; the table is called <name>-idempotency (2-48 lowercase letters, digits, hyphens)."
  type        = string
  default     = "orders-inbox"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,47}$", var.name))
    error_message = "name must be 2-48 lowercase letters, digits and '-', starting with a letter."
  }
}
