"""The SOQL subset the emulator understands, as a lark LALR grammar.

Keywords are case-insensitive as in Salesforce. AND and OR cannot be mixed at one level
without parentheses — Salesforce rejects `a AND b OR c` as MALFORMED_QUERY, so the grammar
does too. NAME is case-insensitive so lark folds keywords into it (no "AND" inside "Android").
"""

from __future__ import annotations

from lark import Lark

GRAMMAR = r"""
start: "SELECT"i select_list "FROM"i NAME scope? where? order? limit? offset?

select_list: select_item ("," select_item)*
?select_item: count | path
count: "COUNT"i "(" path? ")"
path: NAME ("." NAME)*

scope: "USING"i "SCOPE"i NAME
where: "WHERE"i cond

?cond: unary
     | unary ("AND"i unary)+   -> and_
     | unary ("OR"i unary)+    -> or_
?unary: "NOT"i unary           -> not_
      | "(" cond ")"
      | comparison
comparison: path OP value                          -> compare
          | path "IN"i "(" value ("," value)* ")"         -> in_
          | path "NOT"i "IN"i "(" value ("," value)* ")"  -> not_in
          | path "LIKE"i value                      -> like

?value: STRING      -> string
      | NUMBER      -> number
      | DATETIME    -> datetime
      | DATE        -> date
      | "null"i     -> null
      | "true"i     -> true
      | "false"i    -> false
      | DATE_N ":" INT  -> date_n
      | DATE_WORD   -> date_word

order: "ORDER"i "BY"i order_item ("," order_item)*
order_item: path DIRECTION? nulls?
nulls: "NULLS"i NULLS_WHERE
limit: "LIMIT"i INT
offset: "OFFSET"i INT

OP: "=" | "!=" | "<>" | "<=" | ">=" | "<" | ">"
DIRECTION.2: /(ASC|DESC)\b/i
NULLS_WHERE.2: /(FIRST|LAST)\b/i
DATE_N.3: /(LAST_N_DAYS|NEXT_N_DAYS)(?=:)/i
DATE_WORD.3: /(TODAY|YESTERDAY|TOMORROW)\b/i
NAME: /[a-z_][a-z0-9_]*/i
STRING: /'(?:[^'\\]|\\.)*'/
DATETIME.2: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})/
DATE.1: /\d{4}-\d{2}-\d{2}/
NUMBER: /-?\d+(\.\d+)?/
INT: /\d+/

%import common.WS
%ignore WS
"""

PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)
