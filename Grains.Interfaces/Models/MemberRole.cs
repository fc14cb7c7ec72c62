namespace ImOrleans.Models;

[GenerateSerializer, Alias("im.MemberRole")]
public enum MemberRole
{
    Member = 0,
    Admin = 1,
    Owner = 2,
}
