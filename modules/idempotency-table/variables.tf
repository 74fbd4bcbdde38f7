variable "create" {
  description = "Whether to create the table; false creates nothing and every output is null."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the table: 3-255 characters of letters, digits, underscore, hyphen and dot."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters of letters, digits, '_', '-' and '.'."
  }
}

variable "billing_mode" {
  description = "PAY_PER_REQUEST (on-demand, the default) or PROVISIONED."
  type        = string
  default     = "PAY_PER_REQUEST"

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "read_capacity" {
  description = "Read capacity units when billing_mode is PROVISIONED (1-40000); ignored on demand."
  type        = number
  default     = 5

  validation {
    condition     = var.read_capacity >= 1 && var.read_capacity <= 40000
    error_message = "read_capacity must be between 1 and 40000."
  }
}

variable "write_capacity" {
  description = "Write capacity units when billing_mode is PROVISIONED (1-40000); ignored on demand."
  type        = number
  default     = 5

  validation {
    condition     = var.write_capacity >= 1 && var.write_capacity <= 40000
    error_message = "write_capacity must be between 1 and 40000."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for server-side encryption; null uses the AWS managed key (aws/dynamodb)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "point_in_time_recovery" {
  description = "Whether point-in-time recovery is on (default true)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Whether deletion protection is on; default false so that sandboxes can be destroyed."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the table (map of up to 50 key-value strings)."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 50
    error_message = "tags must have at most 50 entries, AWS's limit per resource."
  }
}
