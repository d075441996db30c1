-- Blocked-value patterns now run on RE2 (linear time), which has no backreferences: the two default patterns
-- written with one ("a run of one digit") are rewritten to their RE2 form in stored rules.
update identity_rules
set rules = replace(replace(rules::text, '"^\\+?(\\d)\\1{5,}$"', '"^\\+?(0{6,}|1{6,}|2{6,}|3{6,}|4{6,}|5{6,}|6{6,}|7{6,}|8{6,}|9{6,})$"'), '"^(\\d)\\1{5,}$"', '"^(0{6,}|1{6,}|2{6,}|3{6,}|4{6,}|5{6,}|6{6,}|7{6,}|8{6,}|9{6,})$"')::jsonb;
